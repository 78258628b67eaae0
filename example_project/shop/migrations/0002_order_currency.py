# Pending online migration 1 of 3 on shop_order: add a column with a database default.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='currency',
            field=models.CharField(db_default='EUR', max_length=3),
        ),
    ]
