"""Every operation kind, one per migration, on testapp_item."""
