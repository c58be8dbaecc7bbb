"""Every label on screen, in Simplified Chinese first and English second."""
from __future__ import annotations

from urllib.parse import parse_qs

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

CATALOGUE: dict[str, tuple[str, str]] = {
    # The frame around every page.
    "product": ("gridcc 城市运行指挥中心", "gridcc City Operations Command Center"),
    "product.short": ("城市运行指挥中心", "City Operations Command Center"),
    "page.overview": ("综合态势", "Overview"),
    "page.users": ("用户管理", "Users"),
    "lang.zh": ("中文", "中文"),
    "lang.en": ("EN", "EN"),
    "lang.switch": ("切换语言", "Switch language"),
    "clock.as_of": ("数据截至", "Data as of"),
    # Sign-in, sign-out and the signed-in user.
    "signin.title": ("登录", "Sign in"),
    "signin.heading": ("登录城市运行指挥中心", "Sign in to the command center"),
    "signin.name": ("用户名", "User name"),
    "signin.password": ("密码", "Password"),
    "signin.submit": ("登录", "Sign in"),
    "signin.refused": ("用户名或密码错误。连续失败 5 次，账号将锁定 15 分钟。",
                       "Wrong name or password. After 5 failures in a row the account is locked for 15 minutes."),
    "signin.throttled": ("该地址登录失败次数过多，请 15 分钟后再试。",
                         "Too many failed sign-ins from this address: try again in 15 minutes."),
    "signin.expired": ("页面已过期（或浏览器未启用 Cookie），请重新提交。",
                       "The page expired (or cookies are off in this browser): please submit again."),
    "signin.no_scope": ("您的权限范围已不存在，请联系系统管理员。",
                        "The area or department you answer for no longer exists: ask an administrator."),
    "signin.notice": ("本系统含居民个人信息，仅限授权人员使用，所有操作均被记录。",
                      "This system holds residents' personal information: authorised staff only; every action is logged."),
    "signout": ("退出", "Sign out"),
    "password.title": ("修改密码", "Change password"),
    "password.forced": ("管理员为您设置了一次性密码，请先设置您自己的密码。",
                        "An administrator gave you a one-time password: choose your own before going on."),
    "password.current": ("当前密码", "Current password"),
    "password.new": ("新密码（至少 10 个字符）", "New password (at least 10 characters)"),
    "password.again": ("再次输入新密码", "New password again"),
    "password.submit": ("保存新密码", "Save the new password"),
    "password.back": ("返回", "Back"),
    "password.wrong_current": ("当前密码不正确。", "The current password is wrong."),
    "password.mismatch": ("两次输入的新密码不一致。", "The two new passwords differ."),
    "password.same": ("新密码不能与当前密码或用户名相同。", "The new password may not be the current one or your name."),
    "password.short": ("新密码至少需要 {n} 个字符（最多 256 个）。", "The new password needs at least {n} characters (at most 256)."),
    "password.link": ("修改密码", "Change password"),
    "wall.on": ("公开展示模式", "Public wall mode"),
    "wall.hint": ("开启后本屏隐藏一切个人信息", "Hides everything personal on this screen"),
    # Levels of the hierarchy.
    "level.0": ("市", "City"),
    "level.1": ("区", "District"),
    "level.2": ("街道", "Street"),
    "level.3": ("社区", "Community"),
    "level.4": ("网格", "Grid"),
    "level.5": ("楼栋", "Building"),
    # Map metrics.
    "metric.label": ("着色指标", "Colour by"),
    "metric.open": ("在办", "Open"),
    "metric.overdue": ("超期", "Overdue"),
    "metric.per_1000_households": ("30日每千户上报", "Reports per 1k households"),
    "metric.on_time_rate": ("30日按期率", "On-time rate, 30 d"),
    "legend.no_data": ("无数据", "No data"),
    # The event-density (heat) layer (dashboard/heat.py, docs/heat.md).
    "heat.label": ("事件密度", "Event density"),
    "heat.window.1h": ("近1小时", "Last hour"),
    "heat.window.24h": ("近24小时", "Last 24 hours"),
    "heat.window.7d": ("近7天", "Last 7 days"),
    "heat.filter.class": ("事件大类", "Category class"),
    "heat.filter.source": ("事件来源", "Source"),
    "heat.filter.urgent": ("仅紧急", "Urgent only"),
    "heat.cell_count": ("{n} 件", "{n} events"),
    "heat.none": ("该时段无事件", "No events in this period"),
    "legend.lower_is_worse": ("越低越差", "lower is worse"),
    "legend.higher_is_worse": ("越高越差", "higher is worse"),
    # KPI tiles.
    "kpi.reported_today": ("今日上报", "Reported today"),
    "kpi.open": ("在办", "Open"),
    "kpi.overdue": ("超期", "Overdue"),
    "kpi.closed": ("30日办结", "Closed, 30 d"),
    "kpi.on_time_rate": ("30日按期率", "On-time, 30 d"),
    "kpi.median_hours": ("30日处置时长中位数", "Median time, 30 d"),
    "unit.hours": ("小时", "h"),
    # Panels.
    "panel.area": ("当前区域", "Area in view"),
    "panel.categories": ("30日高发类别", "Top categories (30 days)"),
    "panel.trend": ("30日趋势", "30-day trend"),
    "panel.building": ("楼栋详情", "Building"),
    "trend.reported": ("上报", "Reported"),
    "trend.closed": ("办结", "Closed"),
    "chart.events": ("事件数", "Events"),
    "empty.area": ("该区域近30日无事件，当前无在办事件。", "No events in this area in the last 30 days and none open."),
    "empty.categories": ("近30日无上报", "Nothing reported in the last 30 days"),
    "empty.trend": ("近30日无上报、无办结", "Nothing reported or closed in the last 30 days"),
    "notice.unknown_area": ("未找到区域 {code}（或不在权限范围内），已显示{name}。",
                            "Area {code} was not found or is outside your scope; showing {name}."),
    "notice.unknown_building": ("未找到楼栋 {code}，已显示所在网格。", "Building {code} was not found; showing its grid."),
    "map.hint": ("点击区域下钻，点击路径返回上级", "Click an area to drill down; use the path to go back up"),
    # The building's detail.
    "building.households": ("户数", "Households"),
    "building.floors": ("层数", "Floors"),
    "building.open": ("在办事件", "Open events"),
    "building.overdue_count": ("其中超期", "of which overdue"),
    "building.none_open": ("该楼栋当前无在办事件。", "No open events in this building."),
    "building.more": ("仅显示前 {n} 件", "Showing the first {n}"),
    "event.reported_at": ("上报时间", "Reported"),
    "event.deadline": ("处置时限", "Deadline"),
    "event.overdue": ("超期", "Overdue"),
    "event.category": ("类别", "Category"),
    "event.light": ("时限", "SLA"),
    "light.green": ("正常", "On track"),
    "light.yellow": ("临期", "Due soon"),
    "light.red": ("超时", "Late"),
    "event.status": ("状态", "Status"),
    "event.reporter": ("上报人", "Reporter"),
    "event.reveal": ("显示", "Show"),
    "event.reveal_hint": ("显示完整信息（将记入审计日志）", "Show in full (recorded in the audit log)"),
    "event.reveal_refused": ("无权查看", "Not permitted"),
    # Event statuses (DOMAIN.md §4).
    "status.reported": ("已上报", "Reported"),
    "status.accepted": ("已受理", "Accepted"),
    "status.verified": ("已核实", "Verified"),
    "status.registered": ("已立案", "Registered"),
    "status.dispatched": ("已派遣", "Dispatched"),
    "status.handled": ("已处置", "Handled"),
    "status.checked": ("已核查", "Checked"),
    "status.closed": ("已结案", "Closed"),
    "status.parked": ("挂账", "Parked"),
    "status.void": ("作废", "Void"),
    # The administrator's audit log page and its export.
    "audit.title": ("审计日志", "Audit log"),
    "audit.subtitle": ("登录、写操作、个人信息查看与导出的记录，只增不改",
                       "Sign-ins, writes, reveals and exports; append-only"),
    "audit.admin_only": ("需要系统管理员权限", "Administrators only"),
    "audit.admin_only_hint": ("审计日志仅限系统管理员查看。如需查阅，请联系系统管理员。",
                              "Only an administrator may read the audit log; ask one if you need it."),
    "audit.dates": ("日期", "Dates"),
    "audit.actor": ("操作人", "Actor"),
    "audit.actor_hint": ("用户名（精确匹配）", "User name (exact)"),
    "audit.action": ("操作", "Action"),
    "audit.action_any": ("全部操作", "Any action"),
    "audit.action_prefix": ("{prefix}*（全部）", "{prefix}* (all)"),
    "audit.outcome": ("结果", "Outcome"),
    "audit.outcome_any": ("全部结果", "Any outcome"),
    "audit.search": ("搜索", "Search"),
    "audit.clear": ("清除", "Clear"),
    "audit.search_hint": ("对象或详情中的文字", "Text in target or detail"),
    "audit.count": ("共 {n} 条", "{n} rows"),
    "audit.page_size": ("每页 {n} 条，按时间倒序", "{n} per page, newest first"),
    "audit.empty": ("没有符合条件的记录", "No audit rows match these filters"),
    "audit.export_csv": ("导出 CSV", "Export CSV"),
    "audit.export_xlsx": ("导出 Excel", "Export Excel"),
    "audit.export_hint": ("导出本次筛选的全部记录（每次导出都会记入审计日志）",
                          "Exports every row of these filters (each export is itself audited)"),
    "audit.export_too_many": ("超过 {n} 条，请缩小筛选范围后再导出",
                              "Over {n} rows: narrow the filters to export"),
    "audit.col.occurred_at": ("时间", "Time"),
    "audit.col.actor": ("操作人", "Actor"),
    "audit.col.action": ("操作", "Action"),
    "audit.col.target": ("对象", "Target"),
    "audit.col.outcome": ("结果", "Outcome"),
    "audit.col.source": ("来源", "Source"),
    "audit.col.detail": ("详情", "Detail"),
    "audit.outcome.ok": ("成功", "OK"),
    "audit.outcome.refused": ("拒绝", "Refused"),
    "audit.outcome.locked": ("锁定", "Locked"),
    "audit.outcome.throttled": ("限流", "Throttled"),
    "audit.outcome.ended": ("结束", "Ended"),
    "audit.bad_date": ("日期无效：请使用 YYYY-MM-DD 格式，年份在 {first}–{last} 之间",
                       "Not a valid date: use YYYY-MM-DD, a year from {first} to {last}"),
    "audit.bad_range": ("开始日期晚于结束日期", "The start date is after the end date"),
    "audit.bad_value": ("筛选条件无效：{field}", "Not a valid filter: {field}"),
    "audit.too_long": ("筛选条件过长：{field} 最多 {n} 个字符",
                       "Filter too long: {field} takes at most {n} characters"),
    "audit.bad_page": ("页码无效", "Not a valid page number"),
    # The user management page (/admin/users).
    "users.title": ("用户管理", "User management"),
    "users.subtitle_all": ("系统管理员：管理全部用户", "Administrator: every user"),
    "users.subtitle_district": ("{district}的街道中心操作员、部门处置人员和只读用户",
                                "Street center operators, department handlers and viewers of {district}"),
    "users.refused": ("无权管理用户", "You may not manage users"),
    "users.refused_hint": ("用户由系统管理员和区管理员管理。如需新增、停用账号或重置密码，请联系他们。",
                           "Administrators and district managers manage users: ask one of them to add or "
                           "disable an account or reset a password."),
    "users.wall": ("公开展示模式下不显示用户管理", "User management is hidden in public wall mode"),
    "users.wall_hint": ("请先关闭右上角的“公开展示模式”。", "Turn public wall mode off first (top right)."),
    "users.nav": ("管理", "Administration"),
    "users.nav_overview": ("综合态势", "Overview"),
    "users.nav_users": ("用户管理", "Users"),
    "users.nav_audit": ("审计日志", "Audit log"),
    "users.count": ("共 {n} 人", "{n} users"),
    "users.empty": ("您的管理范围内还没有用户", "No users in your reach yet"),
    "users.col.name": ("用户名", "Sign-in name"),
    "users.col.display_name": ("姓名", "Display name"),
    "users.col.role": ("角色", "Role"),
    "users.col.scope": ("负责范围", "Answers for"),
    "users.col.state": ("状态", "State"),
    "users.col.must_change": ("须改密码", "Must change password"),
    "users.col.created_at": ("创建时间", "Created"),
    "users.col.last_sign_in": ("最近登录", "Last sign-in"),
    "users.state.active": ("正常", "Active"),
    "users.state.disabled": ("已停用", "Disabled"),
    "users.state.locked": ("已锁定", "Locked"),
    "users.yes": ("是", "Yes"),
    "users.department": ("部门", "Department"),
    "users.gone": ("（已不存在）", "(no longer exists)"),
    "users.selected_none": ("在表格中选择一个用户，再停用、启用或重置密码",
                            "Select a user in the table to disable, enable or reset their password"),
    "users.selected": ("已选：{name}", "Selected: {name}"),
    "users.disable": ("停用", "Disable"),
    "users.enable": ("启用", "Enable"),
    "users.reset": ("重置密码", "Reset password"),
    "users.confirm_disable": ("确定停用所选用户吗？其所有会话将立即结束。",
                              "Disable the selected user? All their sessions end at once."),
    "users.confirm_reset": ("确定重置所选用户的密码吗？将生成一次性密码，其所有会话将立即结束。",
                            "Reset the selected user's password? A one-time password is made and all their "
                            "sessions end at once."),
    "users.add_title": ("新增用户", "Add a user"),
    "users.add_note": ("无需输入密码：系统生成一次性密码，用户首次登录时须设置自己的密码。",
                       "No password to type: a one-time password is made, and the user must choose their own "
                       "at first sign-in."),
    "users.name": ("用户名", "Sign-in name"),
    "users.name_hint": ("字母、数字或 . _ -", "Letters, digits, . _ or -"),
    "users.display_name": ("姓名", "Display name"),
    "users.display_name_hint": ("页面上显示的名字", "The name shown on screen"),
    "users.role": ("角色", "Role"),
    "users.scope": ("负责范围", "Answers for"),
    "users.scope_hint": ("先选择角色", "Choose a role first"),
    "users.search": ("搜索", "Search"),
    "users.add": ("新增并生成一次性密码", "Add, with a one-time password"),
    "users.done.add": ("已新增用户 {name}。", "User {name} added."),
    "users.done.disable": ("已停用 {name}，结束 {n} 个会话。", "{name} disabled; {n} sessions ended."),
    "users.done.enable": ("已启用 {name}。", "{name} enabled."),
    "users.done.password_reset": ("已重置 {name} 的密码，结束 {n} 个会话。",
                                  "{name}'s password reset; {n} sessions ended."),
    "users.otp": ("一次性密码", "One-time password"),
    "users.otp_note": ("只显示这一次。请当面交给 {name}，不要通过短信、微信或邮件发送；首次登录时须设置自己的密码。",
                       "Shown this once. Hand it to {name} in person, not by text, chat or e-mail; they must "
                       "choose their own password at first sign-in."),
    "users.bad_name": ("用户名须为 1–64 个字母、数字或 . _ -", "A sign-in name takes 1–64 letters, digits, . _ or -"),
    "users.bad_display_name": ("姓名须为 1–64 个文字、数字、空格或 · . - _ ' ( )",
                               "A display name takes 1–64 letters, digits, spaces or · . - _ ' ( )"),
    "users.bad_role": ("请选择一个角色", "Choose a role"),
    "users.bad_scope": ("请选择负责范围", "Choose what the user answers for"),
    "users.scope_mismatch": ("该范围不适用于此角色", "That area or department does not fit this role"),
    "users.not_allowed": ("您无权授予该角色或范围", "You may not give this role or scope"),
    "users.name_taken": ("该用户名已被使用", "That sign-in name is taken"),
    "users.pick_one": ("请先在表格中选择一个用户", "Select one user in the table first"),
    "users.not_yours": ("该用户不存在或不在您的管理范围内", "There is no such user in your reach"),
    "users.not_self": ("不能停用自己或重置自己的密码（修改自己的密码请点右上角的姓名）",
                       "You may not disable yourself or reset your own password (to change it, click your name "
                       "top right)"),
}


def normalise(lang: str | None) -> str:
    """Return ``lang`` when it is a supported language, else the default (zh)."""
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG, **values) -> str:
    """Return the label ``key`` in ``lang`` ("zh" or "en"), with ``{name}`` fields filled from ``values``."""
    zh, en = CATALOGUE[key]
    text = en if normalise(lang) == "en" else zh
    return text.format(**values) if values else text


def level_name(level: int, lang: str | None = DEFAULT_LANG) -> str:
    """Return the name of hierarchy ``level`` (0 city … 5 building)."""
    return t(f"level.{level}", lang)


def status_name(status: str, lang: str | None = DEFAULT_LANG) -> str:
    """Return the label of an event status, or the status itself when the catalogue lacks it."""
    key = f"status.{status}"
    return t(key, lang) if key in CATALOGUE else status


def bundle(keys, lang: str | None) -> dict[str, str]:
    """Return {key: label} for ``keys`` in ``lang``: what clientside code needs of the catalogue."""
    return {key: t(key, lang) for key in keys}


def lang_from_search(search: str | None) -> str:
    """Return the ``lang`` of a URL query string ("?area=…&lang=en"), the default when absent."""
    return normalise((parse_qs((search or "").lstrip("?")).get("lang") or [None])[0])
