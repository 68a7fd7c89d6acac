"""The Aliyun emulator's business model: the account, app, channel and CDN settings behind the document's
HTTP-200 business codes and the GetMPUTaskStatus statuses 0-6.

A test sets them through the control API; the emulator then answers as the vendor would, for every call
of the app concerned, until the setting changes again (no fault rule is involved):

    POST /_emulator/account     {"appId": ID, "service": "active"|"inactive"|"absent",
                                 "app": "active"|"stopped"|"overdue", "maxChannels": N|null}
        service inactive -> 200 Service.Inactive, absent -> 200 Service.NoExist; app stopped -> 200
        App.Stop, overdue -> 200 App.ChargeOverDue (for every action of that AppId). Stopping the app or
        letting it fall overdue stops its live tasks with status 2 ("任务已停止"; an assumption: the
        document does not say what becomes of running tasks). maxChannels: a StartMPUTask that would
        make the app hold live tasks in more channels than that answers 200 Channel.Exceeds.
    POST /_emulator/channels    {"appId": ID, "channelId": ID, "state": "waiting"|"live"|"ended"|"absent"}
        waiting: new tasks start in status 0; live: status 1, and waiting tasks start running; ended:
        live tasks stop with status 4 ("Channel已停止"), new tasks wait (0); absent: live tasks stop
        with 4 and StartMPUTask answers 200 Channel.NoExist.
    POST /_emulator/stream-urls {"streamUrl": URL, "state": "ok"|"cdn-failure"|"url-invalid"}
        live tasks pushing to the URL (and tasks started to it later) stop with status 5 (CDN network
        problem) or 6 (stream URL problem).
Status 3 is StopMPUTask's; a channel with no setting follows POST /_emulator/new-task-status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

LIVE = (0, 1)  # waiting for the channel, running
SERVICE_CODES = {"inactive": "Service.Inactive", "absent": "Service.NoExist"}
APP_CODES = {"stopped": "App.Stop", "overdue": "App.ChargeOverDue"}
CHANNEL_STATES = ("waiting", "live", "ended", "absent")
URL_STATUSES = {"ok": None, "cdn-failure": 5, "url-invalid": 6}
APP_STOPPED_STATUS = 2


class Task(Protocol):
    app_id: str
    channel: str
    stream_url: str
    status: int
    history: list[str]


class SettingError(ValueError):
    """A control request the model cannot take (answered 400 by the control API)."""


@dataclass
class AliyunBusiness:
    """Settings per AppId, per (AppId, channel) and per StreamURL; all default to a healthy account."""

    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[tuple[str, str], str] = field(default_factory=dict)
    stream_urls: dict[str, str] = field(default_factory=dict)

    def refusal(self, app_id: str) -> str | None:
        """The business code every call of `app_id` answers with HTTP 200, if any."""
        settings = self.apps.get(app_id, {})
        return SERVICE_CODES.get(settings.get("service", "active")) or APP_CODES.get(settings.get("app", "active"))

    def start_status(self, app_id: str, channel: str, stream_url: str, default: int,
                     tasks: Mapping[str, Task]) -> int | str:
        """The status a new task starts in, or the business code refusing the start."""
        state = self.channels.get((app_id, channel))
        if state == "absent":
            return "Channel.NoExist"
        limit = self.apps.get(app_id, {}).get("maxChannels")
        busy = {t.channel for t in tasks.values() if t.app_id == app_id and t.status in LIVE}
        if limit is not None and channel not in busy and len(busy) >= int(limit):
            return "Channel.Exceeds"
        failed = URL_STATUSES.get(self.stream_urls.get(stream_url, "ok"))
        if failed is not None:
            return failed
        return {"waiting": 0, "live": 1, "ended": 0}.get(state or "", default)

    def control(self, name: str, body: Mapping[str, Any], tasks: Mapping[str, Task],
                finish: Callable[[Any, int], None], known_apps: set[str]) -> dict[str, Any] | None:
        """Apply one control request; None when `name` is not one of this model's endpoints."""
        if name == "account":
            return self._account(body, tasks, finish, known_apps)
        if name == "channels":
            return self._channel(body, tasks, finish, known_apps)
        if name == "stream-urls":
            return self._stream_url(body, tasks, finish)
        return None

    def _account(self, body: Mapping[str, Any], tasks: Mapping[str, Task], finish: Callable[[Any, int], None],
                 known_apps: set[str]) -> dict[str, Any]:
        app_id = _app(body, known_apps)
        settings = self.apps.setdefault(app_id, {"service": "active", "app": "active", "maxChannels": None})
        service, app = body.get("service", settings["service"]), body.get("app", settings["app"])
        if service not in ("active", *SERVICE_CODES):
            raise SettingError("service must be active, inactive or absent")
        if app not in ("active", *APP_CODES):
            raise SettingError("app must be active, stopped or overdue")
        limit = body.get("maxChannels", settings["maxChannels"])
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise SettingError("maxChannels must be a non-negative integer or null")
        settings.update(service=service, app=app, maxChannels=limit)
        if app != "active":
            _stop_live(tasks, finish, APP_STOPPED_STATUS, f"account:app={app}",
                       lambda t: t.app_id == app_id)
        return {"appId": app_id, **settings}

    def _channel(self, body: Mapping[str, Any], tasks: Mapping[str, Task], finish: Callable[[Any, int], None],
                 known_apps: set[str]) -> dict[str, Any]:
        app_id, channel, state = _app(body, known_apps), str(body.get("channelId", "")), body.get("state")
        if not channel or state not in CHANNEL_STATES:
            raise SettingError(f"expected channelId and a state of {', '.join(CHANNEL_STATES)}")
        self.channels[(app_id, channel)] = state
        for task in tasks.values():
            if task.app_id != app_id or task.channel != channel:
                continue
            if state == "live" and task.status == 0:
                task.status = 1
                task.history.append("channel:live")
        if state in ("ended", "absent"):
            _stop_live(tasks, finish, 4, f"channel:{state}", lambda t: t.app_id == app_id and t.channel == channel)
        return {"appId": app_id, "channelId": channel, "state": state}

    def _stream_url(self, body: Mapping[str, Any], tasks: Mapping[str, Task],
                    finish: Callable[[Any, int], None]) -> dict[str, Any]:
        url, state = str(body.get("streamUrl", "")), body.get("state")
        if not url or state not in URL_STATUSES:
            raise SettingError(f"expected streamUrl and a state of {', '.join(URL_STATUSES)}")
        self.stream_urls[url] = state
        status = URL_STATUSES[state]
        if status is not None:
            _stop_live(tasks, finish, status, f"stream-url:{state}", lambda t: t.stream_url == url)
        return {"streamUrl": url, "state": state}

    def snapshot(self) -> dict[str, Any]:
        return {"apps": {app: dict(s) for app, s in self.apps.items()},
                "channels": {f"{app}/{channel}": state for (app, channel), state in self.channels.items()},
                "streamUrls": dict(self.stream_urls)}

    def clear(self) -> None:
        self.apps.clear()
        self.channels.clear()
        self.stream_urls.clear()


def _app(body: Mapping[str, Any], known_apps: set[str]) -> str:
    app_id = str(body.get("appId", ""))
    if app_id not in known_apps:
        raise SettingError(f"no app {app_id!r}")
    return app_id


def _stop_live(tasks: Mapping[str, Task], finish: Callable[[Any, int], None], status: int, why: str,
               chosen: Callable[[Task], bool]) -> None:
    for task in tasks.values():
        if task.status in LIVE and chosen(task):
            finish(task, status)
            task.history.append(why)
