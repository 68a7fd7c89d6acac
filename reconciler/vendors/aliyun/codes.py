"""The error code table of the Alibaba Cloud RTC document (chapter 9), row by row, as the seed gives it.

Each row is (hex code, HTTP status, error name, description). The emulator answers these names with
these statuses; the provider maps every name (tests/vendors/aliyun/test_emulator_codes.py walks the rows).
Three names appear twice, once with 400 and once with 200 (Request.ChannelQueryExpire, Request.ExistApp,
Request.ExistAppCallback): the emulator answers the 400 row (request errors are checked before the
business state), and the provider treats both rows alike.
"""

from __future__ import annotations

SEED_ROWS: tuple[tuple[str, int, str, str], ...] = (
    ("0x02070101", 400, "Request.NoTimestamp", "URL中没有Timestamp"),
    ("0x02070102", 400, "Request.NoSignature", "URL中没有Signature"),
    ("0x02070103", 400, "Request.NoRequestID", "URL中没有RequestID"),
    ("0x02070104", 400, "Request.NoBizID", "URL中没有BizID"),
    ("0x02070105", 400, "Request.NoAliUid", "URL中没有AliUid"),
    ("0x02070106", 400, "Request.NoAppID", "请求中没有AppID"),
    ("0x02070107", 400, "Request.NoDescription", "请求中没有AppDescription"),
    ("0x02070108", 400, "Request.NoAppType", "请求中没有AppType"),
    ("0x02070109", 400, "Request.NoServiceAreas", "请求中没有ServiceAreas"),
    ("0x0207010A", 400, "Request.NoBillType", "请求中没有BillType"),
    ("0x0207010B", 400, "Request.NoChannelID", "请求中没有ChannelID"),
    ("0x0207010C", 400, "Request.NoUserGroups", "请求中没有UserGroups"),
    ("0x0207010D", 400, "Request.NoUserID", "请求中没有UserID"),
    ("0x0207010E", 400, "Request.NoSessionID", "请求中没有SessionID"),
    ("0x0207010F", 400, "Request.NoNonce", "请求中没有Nonce"),
    ("0x02070110", 400, "Request.NoTerminalIDs", "请求中没有TerminalIDs"),
    ("0x02070111", 400, "Request.MismatchBizID", "请求中BizID不匹配"),
    ("0x02070112", 400, "Request.InvalidAppID", "请求中AppID非法"),
    ("0x02070113", 400, "Request.InvalidAppKey", "请求中AppKey非法"),
    ("0x02070114", 400, "Request.InvalidAppCallback", "请求中AppCallback非法"),
    ("0x02070115", 400, "Request.InvalidChannelID", "请求中ChannelID非法"),
    ("0x02070116", 400, "Request.InvalidChannelKey", "请求中ChannelKey非法"),
    ("0x02070117", 400, "Request.InvalidNonce", "请求中Nonce非法"),
    ("0x02070118", 400, "Request.InvalidTimestamp", "请求中Timestamp非法"),
    ("0x02070119", 400, "Request.IllegalTerminal", "请求中Terminal非法"),
    ("0x0207011A", 400, "Request.ChannelQueryExpire", "查询的Channel已过期"),
    ("0x0207011B", 400, "Request.ExistApp", "请求的App已存在"),
    ("0x0207011C", 400, "Request.ExistAppCallback", "请求的AppCallback已存在"),
    ("0x0207011D", 400, "Request.ExistChannel", "请求的Channel已存在"),
    ("0x02070401", 401, "Request.IllegalTimestamp", "Timestamp字段非法"),
    ("0x02070402", 401, "Request.IllegalSignature", "Signature验证失败"),
    ("0x02070403", 401, "Request.IllegalAuth", "Auth字段校验失败"),
    ("0x02070404", 401, "Request.IllegalBizID", "BizID字段校验失败"),
    ("0x02070405", 401, "Request.IllegalAliUID", "AliUID字段校验失败"),
    ("0x02070406", 401, "Request.IllegalBroadcast", "Broadcast字段校验失败"),
    ("0x02070407", 401, "Request.IllegalUserGroups", "UserGroups字段校验失败"),
    ("0x02070801", 404, "Service.NoSignaling", "未获取到信令服务"),
    ("0x02070802", 404, "Service.NoApp", "App不存在"),
    ("0x02070803", 404, "Service.NoAppCallback", "AppCallback不存在"),
    ("0x02070804", 404, "Service.NoChannel", "Channel不存在"),
    ("0x02070201", 500, "Service.BuildSignature", "生成signature失败"),
    ("0x02070202", 500, "Service.ParseHTTPBody", "解析http body失败"),
    ("0x02070203", 500, "Service.AppRDSOperate", "App RDS访问失败"),
    ("0x02070204", 500, "Service.AppCallbackRDSOperate", "App callback RDS访问失败"),
    ("0x02070205", 500, "Service.ChannelRDSOperate", "channel RDS访问失败"),
    ("0x02070206", 500, "Service.GenerateChannelKey", "生成channel key失败"),
    ("0x02070207", 500, "Service.GenerateChannelToken", "生成channel token失败"),
    ("0x02070208", 500, "Service.SignalingSendMessage", "向signaling发送消息失败"),
    ("0x02071001", 200, "Service.Inactive", "服务不可用"),
    ("0x02071002", 200, "Channel.NoExist", "频道不存在"),
    ("0x02071003", 200, "Service.NoExist", "服务不存在"),
    ("0x02071004", 200, "App.Stop", "应用停用，请在控制台重新恢复该AppID到可用状态"),
    ("0x02071005", 200, "App.ChargeOverDue", "AppID已欠费，请续费"),
    ("0x02071006", 200, "Channel.Exceeds", "超过最大可用频道数，请删除不再使用的频道"),
    ("0x02071007", 200, "Request.ChannelQueryExpire", "查询的Channel已过期"),
    ("0x02071008", 200, "Request.ExistApp", "请求的App已存在"),
    ("0x02071009", 200, "Request.ExistAppCallback", "请求的AppCallback已存在"),
)


def seed_statuses() -> dict[str, int]:
    """Error name -> HTTP status, the first row winning for the names listed twice."""
    statuses: dict[str, int] = {}
    for _, status, name, _ in SEED_ROWS:
        statuses.setdefault(name, status)
    return statuses


def seed_messages() -> dict[str, tuple[int, str]]:
    """Error name -> (HTTP status, the document's description), as the emulator's fallback table."""
    messages: dict[str, tuple[int, str]] = {}
    for _, status, name, text in SEED_ROWS:
        messages.setdefault(name, (status, text))
    return messages
