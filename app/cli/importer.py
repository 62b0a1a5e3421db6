"""Placeholder; replaced by the spreadsheet import."""
import click


@click.command("import")
@click.argument("path")
def import_command(path: str) -> None:
    """Import a spreadsheet."""
