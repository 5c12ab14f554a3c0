"""What every ``natgrad`` command shares: error handling, exit codes and safe output.

Errors become one line on stderr and an exit code (2 bad input, 130 interrupted, 1 anything
else); outputs are written to temporary files and renamed into place only when the whole
command has succeeded, and never over an existing file without ``--force``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from natgrad.cli._data import InputError


def _guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Turn every failure into one line and an exit code; --debug adds the traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except (click.exceptions.Exit, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if kwargs.get("debug"):
                import traceback

                click.echo(traceback.format_exc().rstrip(), err=True)
            raise _as_click_error(exc) from None

    return wrapper


def _as_click_error(exc: BaseException) -> click.ClickException | SystemExit:
    from natgrad.io import ModelFileError

    if isinstance(exc, click.ClickException):
        return exc
    interrupt = _interrupt_in_chain(exc)
    if interrupt is not None:
        said = interrupt.args[0] if interrupt.args and isinstance(interrupt.args[0], str) else ""
        click.echo(said or "Interrupted (Ctrl-C); no output was written.", err=True)
        return SystemExit(130)
    if isinstance(exc, ModelFileError):
        return InputError(str(exc))
    if isinstance(exc, OSError) and exc.filename:
        return click.ClickException(f"{exc.filename}: {exc.strerror or exc}")
    return click.ClickException(
        " ".join(f"unexpected {type(exc).__name__}: {exc}".split())
        + " (run again with --debug for the traceback)"
    )


def _interrupt_in_chain(exc: BaseException | None) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt behind ``exc``, if any.

    Ctrl-C inside compiled (numba) code surfaces as a SystemError whose cause is the
    KeyboardInterrupt, so the whole chain is searched.
    """
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


# ------------------------------------------------------------------------------- outputs
def _check_new(paths: Sequence[Path], force: bool) -> None:
    for path in paths:
        if path.is_dir():
            raise InputError(f"{path} is a folder; expected a file name")
        folder = path.parent
        if not folder.is_dir():
            raise InputError(f"{path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(f"{path}: the folder {folder} is not writable")
        if path.exists() and not force:
            raise InputError(f"{path} already exists; use --force to overwrite it")


def _check_out_folder(out: Path) -> None:
    """Refuse, before any work, an --out folder that cannot be created or written."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; expected a folder")
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"--out {out}: {existing} is a file, so the folder cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == out:
            raise InputError(f"--out {out}: the folder is not writable")
        raise InputError(f"--out {out}: cannot create the folder; {existing} is not writable")


@contextlib.contextmanager
def _staged(dests: Sequence[Path], force: bool) -> Iterator[list[Path]]:
    """Temporary files beside ``dests``; moved into place when the block succeeds.

    A temporary file the block deletes is skipped. Any failure (Ctrl-C included) removes the
    temporary files, and a failure while moving removes what this call already moved, so a
    run leaves either all its outputs or none. Without ``force`` each output is created
    exclusively (a hard link, which fails if the name exists), so an output that another run
    wrote meanwhile is never replaced: the earlier existence check is not enough on its own.
    """
    temps: list[Path] = []
    done: list[Path] = []
    try:
        for dest in dests:
            fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
            os.close(fd)
            temps.append(Path(name))
        yield temps
        for temp, dest in zip(temps, dests, strict=True):
            if temp.exists():
                os.chmod(temp, 0o644)
                if force:
                    os.replace(temp, dest)
                else:
                    _create_exclusively(temp, dest)
                done.append(dest)
    except BaseException:
        for dest in done:
            dest.unlink(missing_ok=True)
        raise
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def _create_exclusively(temp: Path, dest: Path) -> None:
    """Give ``temp``'s content the name ``dest`` only if no file has that name (atomic)."""
    try:
        os.link(temp, dest)
    except FileExistsError:
        raise InputError(
            f"{dest} was created by someone else while this command ran; nothing was "
            "written (use --force to overwrite)"
        ) from None
    except OSError:
        # A file system without hard links: claim the name exclusively, then fill it.
        try:
            os.close(os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise InputError(
                f"{dest} was created by someone else while this command ran; nothing was "
                "written (use --force to overwrite)"
            ) from None
        os.replace(temp, dest)


def _write_table(frame: Any, path: Path, kind: str) -> None:
    if kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if kind == "tsv" else ",")


def _json_safe(value: Any) -> Any:
    """Non-finite floats become null so that the file is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # NumPy scalars
        return _json_safe(value.item())
    return value


def _command_line(ctx: click.Context) -> str:
    """The command with every setting spelled out (defaults included): reproducible."""
    import shlex

    words = ["natgrad", ctx.command.name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.name in ("debug", "force", "quiet") or value is None or value is False:
            continue
        if value == ():
            continue
        if isinstance(param, click.Argument):
            words.append(str(value))
            continue
        flag = max(param.opts, key=len)
        if isinstance(param, click.Option) and param.is_flag:
            words.append(flag)
        elif isinstance(value, tuple):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)
