"""Voting takes over the eligibility tables identity created, with their rows (issue 9).

First the existing ``identity_*`` tables enter voting's state as they are (no SQL), then they
are renamed to voting's names and their unique constraints get voting's names. A database
migrated by the old code moves forward with every key and grant; the step is reversible.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0002_election_context"),
        ("identity", "0002_eligibility_moves_to_voting"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EligibilityKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("variant", models.CharField(max_length=64)),
                        ("key_id", models.CharField(max_length=64, unique=True)),
                        ("public_key_pem", models.TextField()),
                        (
                            "private_key_sealed",
                            models.TextField(
                                help_text="PKCS#8 DER sealed with AES-256-GCM under a key from the city key file (base64)."
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "election",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="eligibility_key",
                                to="voting.election",
                            ),
                        ),
                    ],
                    options={"db_table": "identity_electionsigningkey"},
                ),
                migrations.CreateModel(
                    name="EligibilityGrant",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("did", models.CharField(max_length=128)),
                        ("issued_at", models.DateTimeField(auto_now_add=True)),
                        ("commitment", models.CharField(max_length=64)),
                        ("commitment_salt", models.CharField(max_length=64)),
                        (
                            "election",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="voting.election"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "identity_eligibilitygrant",
                        "constraints": [
                            models.UniqueConstraint(fields=("election", "user"), name="identity_one_token_per_citizen"),
                            models.UniqueConstraint(fields=("election", "did"), name="identity_one_token_per_did"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="eligibilitykey", table=None),
        migrations.AlterModelTable(name="eligibilitygrant", table=None),
        migrations.RemoveConstraint(model_name="eligibilitygrant", name="identity_one_token_per_citizen"),
        migrations.RemoveConstraint(model_name="eligibilitygrant", name="identity_one_token_per_did"),
        migrations.AddConstraint(
            model_name="eligibilitygrant",
            constraint=models.UniqueConstraint(fields=("election", "user"), name="voting_one_token_per_citizen"),
        ),
        migrations.AddConstraint(
            model_name="eligibilitygrant",
            constraint=models.UniqueConstraint(fields=("election", "did"), name="voting_one_token_per_did"),
        ),
    ]
