"""TrusteeCredential becomes ApiCredential (trustees and officials): a rename, rows kept."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("voting", "0004_lifecycle_trustees_ceremony"),
    ]

    operations = [
        migrations.RenameModel(old_name="TrusteeCredential", new_name="ApiCredential"),
        migrations.AlterField(
            model_name="apicredential",
            name="user",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE,
                related_name="api_credentials",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
