"""Create the four role groups with their permission on every fresh database."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "citizen": "act_as_citizen",
    "official": "act_as_official",
    "trustee": "act_as_trustee",
    "observer": "act_as_observer",
}


def create_role_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make ours now so the groups can hold them.
    civic_config = apps.get_app_config("civic")
    civic_config.models_module = True
    create_permissions(civic_config, apps=apps, verbosity=0)
    civic_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codename in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(Permission.objects.get(content_type__app_label="civic", codename=codename))


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("civic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
