from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=50)),
                ("qty", models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="Other",
            fields=[("id", models.BigAutoField(primary_key=True, serialize=False))],
        ),
    ]
