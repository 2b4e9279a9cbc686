from django.apps import AppConfig


class CivicConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "civic"
    verbose_name = "Civic platform"
