"""`provision lab ...`: the lab province on this machine (placeholder until the lab lands)."""
import typer

app = typer.Typer(help="Build, inspect and remove the lab province on this machine.", no_args_is_help=True)
