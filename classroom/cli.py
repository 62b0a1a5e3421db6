"""`tetrad-classroom`: the classroom journal on this machine, in a browser at http://127.0.0.1:5001.

    tetrad-classroom --db C:\\tetrad\\client.db [--port 5001] [--host 127.0.0.1]
    tetrad-classroom --db client.db --setup SETUP.json.gz     # start from the hub's setup file first

The server is werkzeug's (it comes with Flask): pure Python, the same on Windows and Linux, threaded so a
sync in progress does not block the other pages. It listens on the loopback address only, unless told.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from werkzeug.serving import make_server

from classroom import create_app
from classroom.school import served_teachers
from sync.cli import default_db
from sync.client import SyncClient
from sync.errors import SyncError
from sync.report import describe


def parser() -> argparse.ArgumentParser:
    """The command line."""
    main = argparse.ArgumentParser(prog="tetrad-classroom", description="Классный журнал «Тетрадь» на этом компьютере.")
    main.add_argument("--db", help="файл данных компьютера (по умолчанию $TETRAD_CLIENT_DB или "
                                   "~/.local/share/tetrad/client.db)")
    main.add_argument("--host", default="127.0.0.1", help="адрес, на котором слушать (по умолчанию 127.0.0.1)")
    main.add_argument("--port", type=int, default=int(os.environ.get("CLASSROOM_PORT") or 5001),
                      help="порт (по умолчанию 5001 или $CLASSROOM_PORT)")
    main.add_argument("--setup", help="сначала настроить компьютер из файла настройки с сервера")
    return main


def main(argv: list[str] | None = None) -> int:
    """Start the journal; return the exit code."""
    args = parser().parse_args(argv)
    path = Path(args.db or os.environ.get("TETRAD_CLIENT_DB") or default_db())
    client = SyncClient(path)
    try:
        if args.setup:
            device = client.start_from_file(args.setup)
            print(f"Компьютер настроен из файла {args.setup} как устройство {device}.")
        if not client.store.get("status"):
            print(f"Файл {path} ещё не подключён к серверу школы: выполните «tetrad-sync init --hub АДРЕС --token "
                  "КЛЮЧ» или запустите с --setup ФАЙЛ.", file=sys.stderr)
            return 1
        teachers = served_teachers(client)
    except SyncError as exc:
        print(f"Ошибка: {describe(exc)}", file=sys.stderr)
        return 1
    finally:
        client.close()
    app = create_app(path)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"Журнал открыт: http://{args.host}:{server.server_port}/  (учителей: {len(teachers)}; Ctrl+C — выход)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
