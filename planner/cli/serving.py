"""``planner run`` (serve the web application) and ``planner worker`` (run solve jobs queued on Redis/RQ)."""

from __future__ import annotations

import click

from .app_context import fail
from .group import main


@main.command("run", help="Webアプリケーションを起動します（既定: gunicorn、--debug で開発用サーバー）。")
@click.option("--host", default="127.0.0.1", show_default=True, help="待ち受けるアドレス")
@click.option("--port", default=5000, show_default=True, type=int, help="待ち受けるポート")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32), help="gunicorn のワーカー数")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="ワーカーあたりのスレッド数")
@click.option("--debug", is_flag=True, help="Flask の開発用サーバー（自動再読み込み、デバッガ）で起動")
def run_command(host: str, port: int, workers: int, threads: int, debug: bool) -> None:
    from planner.app import create_app

    app = create_app()
    runner = "RQ ワーカー（planner worker）" if app.config.get("REDIS_URL") else "アプリ内スレッド"
    click.echo(f"共同調達プランナーを http://{host}:{port}/ で起動します（最適化ジョブ: {runner}）")
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from gunicorn.app.base import BaseApplication

    # The master checked the schema through the engine; it serves nothing itself, so it keeps no connection for
    # the workers to inherit (each worker's pool also starts empty after the fork: planner.db.session).
    app.extensions["db_engine"].dispose()

    class _Server(BaseApplication):
        def load_config(self):
            # gthread workers keep answering (and heartbeating to gunicorn) while a solve thread runs.
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 120,
                "accesslog": "-",
            }.items():
                self.cfg.set(key, value)
            # gunicorn (25.1+) opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl): a second
            # instance on the host would take over the first one's. Each instance keeps its own in its instance
            # folder, or none where that path is too long for a Unix socket.
            if "control_socket" in self.cfg.settings:
                socket_path = control_socket_path(app.instance_path)
                if socket_path is None:
                    self.cfg.set("control_socket_disable", True)
                else:
                    self.cfg.set("control_socket", socket_path)

        def load(self):
            return app

    _Server().run()


@main.command("worker", help="Redis（REDIS_URL）のキューから最適化ジョブを取り出して実行します。")
@click.option("--burst", is_flag=True, help="キューが空になったら終了する")
def worker_command(burst: bool) -> None:
    from planner import jobs
    from planner.config import load_settings

    url = load_settings().get("REDIS_URL")
    if not url:
        fail("REDIS_URL が設定されていません（環境変数または instance/config.py で指定してください）。")
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Worker

    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisConnectionError as e:
        fail(f"Redis に接続できません（{url}）: {e}")
    # The settings and an engine are all a job needs: no web application is built in the worker.
    jobs.configure_worker_engine(jobs.worker_engine())
    click.echo(f"キュー「{jobs.QUEUE_NAME}」のジョブを待っています（{url}）")
    Worker([jobs.QUEUE_NAME], connection=connection).work(burst=burst)


_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on the BSDs


def control_socket_path(instance_path: str) -> str | None:
    """gunicorn's control socket inside this instance's folder; None when that path is too long for a socket."""
    import os

    path = os.path.join(os.path.abspath(instance_path), "gunicorn.ctl")
    return path if len(path.encode()) <= _MAX_SOCKET_PATH else None
