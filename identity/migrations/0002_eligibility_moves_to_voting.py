"""Eligibility keys and grants now belong to voting (issue 9): drop them from identity's state.

State only: the tables and their rows stay; ``voting.0003_eligibility_from_identity`` takes the
same tables into voting's state and renames them. Nothing in the database changes here
(the challenge scope's help text only says it is opaque).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ElectionSigningKey"),
                migrations.DeleteModel(name="EligibilityGrant"),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="challenge",
            name="scope",
            field=models.CharField(
                blank=True,
                help_text="what the caller binds the challenge to (opaque to identity)",
                max_length=100,
            ),
        ),
    ]
