"""Django database backends provided by django_ghost."""
