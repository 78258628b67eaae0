from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [
        migrations.CreateModel(
            name="Row",
            fields=[
                ("id", models.IntegerField(primary_key=True, serialize=False)),
                ("v", models.IntegerField(null=True)),
                ("w", models.CharField(max_length=20, null=True)),
            ],
        ),
    ]
