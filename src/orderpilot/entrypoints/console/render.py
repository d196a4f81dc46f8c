"""The console's renderer: a template set per locale and the context every page shares."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from babel.support import Translations
from fastapi import Depends, Request
from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.responses import Response

from orderpilot.bootstrap import Hub
from orderpilot.domain.access import allowed
from orderpilot.domain.lifecycle import EVENT_TYPES
from orderpilot.entrypoints.console.i18n import (
    LOCALES,
    Bilingual,
    build_environment,
    load_translations,
    pick_locale,
    say,
)
from orderpilot.services.accounts import Principal

CSRF_KEY = "csrf"


def csrf_token(session: dict[str, Any]) -> str:
    """The session's anti-forgery token, made on first use."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


@pass_context
def path(context: Context, name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    return str(request.scope.get("root_path", "")) + str(request.app.url_path_for(name, **params))


class Console:
    """Built once at mount: catalogs are read and templates compiled per locale."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.translations: dict[str, Translations] = {
            locale: load_translations(locale) for locale in LOCALES}
        self.templates: dict[str, Jinja2Blocks] = {}
        for locale, translations in self.translations.items():
            env = build_environment(locale, translations)
            env.globals["path"] = path
            env.filters["system_status"] = self._system_status(locale, env.filters["node"])
            self.templates[locale] = Jinja2Blocks(env=env)

    def _system_status(self, locale: str,
                       node: Callable[[str], str]) -> Callable[[str, str, str], str]:
        """A status a system reported, by name: a sales platform's own status by its status
        table (Shopify's "paid/unfulfilled" is 已付款，未发货), else a lifecycle node or the
        catalogue's name (``node``), else the name of the event that reported it when the
        status is that event's own (Kingdee's "closed" after erp.receivable_closed: 应收已核销)."""
        tables = {name: {row.status: (row.zh, row.en) for row in platform.statuses}
                  for name, platform in self.hub.channels.platforms().items()}
        zh = locale == "zh_CN"

        def name(status: str, source: str = "", event_type: str = "") -> str:
            found = tables.get(source, {}).get(status)
            if found is not None:
                return found[0] if zh else found[1]
            named_as = node(status)
            reported_by = EVENT_TYPES.get(event_type)
            if named_as == status and reported_by is not None \
                    and reported_by.view_status == status:
                return reported_by.zh if zh else reported_by.en
            return named_as
        return name

    def locale(self, request: Request) -> str:
        return pick_locale(request.session.get("locale"), self.hub.settings.default_locale)

    def translate(self, request: Request, message: str) -> str:
        return self.translations[self.locale(request)].gettext(message)

    def say(self, request: Request, error: Bilingual | str) -> str:
        """A domain message (an error or a rule problem) in the user's language; the one place
        the console turns one into text (templates use the ``say`` filter, the same thing)."""
        return say(error, self.locale(request))

    def render(self, request: Request, name: str, context: Mapping[str, Any] | None = None, *,
               blocks: list[str] | None = None, status: int = 200,
               headers: Mapping[str, str] | None = None) -> Response:
        """A whole page, or only the named blocks (HTMX partial updates)."""
        principal: Principal | None = getattr(request.state, "console_principal", None)
        locale = self.locale(request)
        page: dict[str, Any] = {
            "principal": principal,
            "csrf_token": csrf_token(request.session),
            "can": lambda permission: principal is not None
            and allowed(principal.role, permission),
            "other_locale": next(lo for lo in LOCALES if lo != locale),
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "now": self.hub.clock(),
            **(context or {}),
        }
        templates = self.templates[locale]
        if blocks:
            return templates.TemplateResponse(request, name, page, status_code=status,
                                              headers=headers, block_names=blocks)
        return templates.TemplateResponse(request, name, page, status_code=status,
                                          headers=headers)

    def error(self, request: Request, message: str, status: int) -> Response:
        """A whole error page, or for HTMX the message alone, shown in the page's flash area
        (so a refused action does not replace the part of the page it came from)."""
        if is_htmx(request):
            return self.render(request, "error.html", {"message": message, "status": status},
                               blocks=["message"], status=status,
                               headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        return self.render(request, "error.html", {"message": message, "status": status},
                           status=status)


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
