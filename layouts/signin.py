"""The sign-in page: plain HTML with no script, posted to /auth/sign-in (never through Dash's callbacks).

Rendered by Jinja with autoescaping, so a name or a ``next`` path sent back to the page is text, not markup.
"""
from __future__ import annotations

import flask

from dashboard.i18n import t

# The frame both pages share: no script, the command center's stylesheets, the product name.
_HEAD = """<!DOCTYPE html>
<html lang="{{ 'en' if lang == 'en' else 'zh-CN' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }} · {{ product }}</title>
<link rel="stylesheet" href="/assets/gridcc.css">
<link rel="stylesheet" href="/assets/signin.css">
<link rel="icon" href="/_favicon.ico">
</head>
<body class="gcc-signin-body">
<main class="gcc-signin">
  <div class="gcc-signin-brand"><span class="gcc-brand-mark" aria-hidden="true"></span>{{ product }}</div>
"""

_TEMPLATE = _HEAD + """  <form class="gcc-signin-card" method="post" action="/auth/sign-in" autocomplete="on">
    <h1>{{ heading }}</h1>
    {% if error %}<p class="gcc-signin-error" role="alert">{{ error }}</p>{% endif %}
    <label for="name">{{ name_label }}</label>
    <input id="name" name="name" type="text" value="{{ name }}" maxlength="64" required autofocus
           autocomplete="username" spellcheck="false" autocapitalize="off">
    <label for="password">{{ password_label }}</label>
    <input id="password" name="password" type="password" maxlength="256" required autocomplete="current-password">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <input type="hidden" name="next" value="{{ next_path }}">
    <input type="hidden" name="lang" value="{{ lang }}">
    <button type="submit">{{ submit }}</button>
    <p class="gcc-signin-notice">{{ notice }}</p>
  </form>
  <nav class="gcc-signin-lang">
    <a href="/auth/sign-in?lang=zh&amp;next={{ next_path | urlencode }}"{% if lang != 'en' %} aria-current="true"{% endif %}>中文</a>
    <span aria-hidden="true">|</span>
    <a href="/auth/sign-in?lang=en&amp;next={{ next_path | urlencode }}"{% if lang == 'en' %} aria-current="true"{% endif %}>EN</a>
  </nav>
</main>
</body>
</html>
"""


_PASSWORD_TEMPLATE = _HEAD + """  <form class="gcc-signin-card" method="post" action="/auth/password">
    <h1>{{ title }} · {{ name }}</h1>
    {% if forced %}<p class="gcc-signin-notice gcc-signin-forced">{{ forced_text }}</p>{% endif %}
    {% if error %}<p class="gcc-signin-error" role="alert">{{ error }}</p>{% endif %}
    <input type="text" name="username" value="{{ name }}" autocomplete="username" hidden>
    <label for="current">{{ current_label }}</label>
    <input id="current" name="current" type="password" maxlength="256" required autofocus autocomplete="current-password">
    <label for="new">{{ new_label }}</label>
    <input id="new" name="new" type="password" minlength="10" maxlength="256" required autocomplete="new-password">
    <label for="again">{{ again_label }}</label>
    <input id="again" name="again" type="password" minlength="10" maxlength="256" required autocomplete="new-password">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <input type="hidden" name="lang" value="{{ lang }}">
    <button type="submit">{{ submit }}</button>
    {% if not forced %}<p class="gcc-signin-notice"><a href="/{{ '?lang=en' if lang == 'en' else '' }}">{{ back }}</a></p>{% endif %}
  </form>
</main>
</body>
</html>
"""


def password_page(*, lang: str, csrf: str, error: str | None, forced: bool, name: str) -> str:
    """Return the change-password page; ``forced`` when a one-time password must be replaced first."""
    return flask.render_template_string(
        _PASSWORD_TEMPLATE, lang=lang, csrf=csrf, error=error, forced=forced, name=name,
        title=t("password.title", lang), product=t("product", lang), forced_text=t("password.forced", lang),
        current_label=t("password.current", lang), new_label=t("password.new", lang),
        again_label=t("password.again", lang), submit=t("password.submit", lang), back=t("password.back", lang))


def page(*, lang: str, csrf: str, error: str | None, name: str, next_path: str) -> str:
    """Return the sign-in page in ``lang``, with ``error`` shown above the form when given."""
    return flask.render_template_string(
        _TEMPLATE, lang=lang, csrf=csrf, error=error, name=name, next_path=next_path,
        title=t("signin.title", lang), product=t("product", lang), heading=t("signin.heading", lang),
        name_label=t("signin.name", lang), password_label=t("signin.password", lang),
        submit=t("signin.submit", lang), notice=t("signin.notice", lang))
