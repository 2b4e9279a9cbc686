from django.apps import AppConfig


class AnchoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger.anchoring"
    label = "anchoring"
    verbose_name = "Ledger anchoring"
