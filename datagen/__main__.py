from datagen.cli import app

app(prog_name="python -m datagen")
