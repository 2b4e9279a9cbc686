from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="RoleGrant",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("act_as_citizen", "Act as a citizen: hold a DID, claim residency, vote"),
                    ("act_as_official", "Act as a city official: review claims, run elections"),
                    ("act_as_trustee", "Act as a trustee: hold a decryption key share"),
                    ("act_as_observer", "Act as an observer: run an observer node"),
                ],
            },
        ),
        migrations.CreateModel(
            name="TaskProbe",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(max_length=64, unique=True)),
                ("worker", models.CharField(blank=True, max_length=255)),
                ("received_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
