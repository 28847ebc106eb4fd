#!/usr/bin/env python3
"""Launcher: moto's server with the matbakh extensions, in the foreground, all services on one port.

    python matbakh_moto.py [--host 127.0.0.1] [--port 4566] [--speed 60]

--speed: the deployment clock's virtual seconds per real second after start and every reset
(default $MATBAKH_EMULATOR_SPEED, else 60): ECS deployments take their stages' time, that much faster.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("MATBAKH_EMULATOR_PORT", "4566")))
    parser.add_argument("--speed", type=float,
                        default=float(os.environ.get("MATBAKH_EMULATOR_SPEED", "60")))
    args = parser.parse_args()
    if args.speed < 0:
        parser.error("--speed must be >= 0")
    os.environ["MATBAKH_EMULATOR_SPEED"] = str(args.speed)  # read by ecs_clock.DEFAULT_SPEED

    os.environ.setdefault("MOTO_PORT", str(args.port))
    # Long ECS ARNs (arn:...:service/CLUSTER/NAME), as AWS uses today.
    os.environ.setdefault("MOTO_ECS_NEW_ARN", "true")

    import extensions
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    extensions.install()
    app = extensions.wrap(DomainDispatcherApplication(create_backend_app))

    def _exit(signum, frame):  # noqa: ANN001
        sys.exit(0)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    print(f"matbakh emulator (moto + extensions) listening on http://{args.host}:{args.port}",
          flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
