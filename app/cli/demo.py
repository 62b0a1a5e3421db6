"""Placeholder; replaced by the demo school builder."""
import click


@click.command("demo")
@click.option("--if-empty", is_flag=True)
def demo_command(if_empty: bool) -> None:
    """Build the demo school."""
