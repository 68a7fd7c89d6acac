"""The Aliyun emulator's error table: every row of chapter 9 of the vendor document (`codes.py`) and
Alibaba Cloud's common gateway codes, with their HTTP status and message, and the exception that
carries one to the response envelope (`emulator.py`)."""

from __future__ import annotations

from reconciler.vendors.aliyun.codes import seed_messages

# code -> (HTTP status, message); every row of chapter 9 of the document (its description as the
# message unless a clearer one is given here) plus Alibaba Cloud's common codes
ERRORS: dict[str, tuple[int, str]] = {
    **seed_messages(),
    "Request.NoTimestamp": (400, "The request has no Timestamp."),
    "Request.NoSignature": (400, "The request has no Signature."),
    "Request.NoNonce": (400, "The request has no SignatureNonce."),
    "Request.NoAppID": (400, "The request has no AppId."),
    "Request.NoChannelID": (400, "The request has no ChannelId."),
    "Request.InvalidAppID": (400, "The AppId does not belong to the account of this AccessKey."),
    "Request.InvalidChannelID": (400, "The ChannelId is not valid: use 1-64 characters of A-Z a-z 0-9 _ -."),
    "Request.InvalidNonce": (400, "The SignatureNonce was already used."),
    "Request.InvalidTimestamp": (400, "The Timestamp is not of the form YYYY-MM-DDThh:mm:ssZ."),
    "Request.IllegalTimestamp": (401, "The Timestamp is more than 15 minutes from the server time."),
    "Request.IllegalSignature": (401, "The signature does not match the one we calculated."),
    "Request.IllegalAuth": (401, "The AccessKeyId does not exist."),
    "Service.NoApp": (404, "The App does not exist."),
    "Service.Inactive": (200, "The service is not available."),
    "App.Stop": (200, "The app is disabled; re-enable the AppId in the console."),
    "App.ChargeOverDue": (200, "The AppId is overdue; please top up."),
    "InvalidTask.IDError": (400, "The TaskId is not valid: use 1-64 characters of A-Z a-z 0-9 _ -."),
    "InvalidTask.NotFound": (404, "The task does not exist."),
    "InvalidLayout.NotFound": (404, "The layout does not exist."),
    "InvalidLayout.InUse": (400, "The layout is used by a running task."),
    "InvalidTask.Stopped": (400, "The task has stopped; its layout can only change while it runs."),
    "Task.AlreadyExists": (400, "Task already exists"),
    "StreamURL.InUse": (400, "The StreamURL is used by another running task."),
    "StreamURL.RecentlyStopped": (400, "The StreamURL was used by a task that stopped less than 10 seconds ago."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "UnsupportedOperation": (400, "The specified action is not supported."),
    "NoSuchVersion": (400, "The specified version does not exist."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "MissingParameter": (400, 'The input parameter "{}" that is mandatory for processing this request is not supplied.'),
    "InvalidParameter": (400, 'The specified value of parameter "{}" is not valid.'),
}


class ApiError(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.status, template = ERRORS[code]
        self.message = template.format(detail) if "{}" in template else template
        super().__init__(self.message)
