"""Template helpers: `{% t "console.key" n=3 %}` in the page's language (render/i18n catalogue)."""
from __future__ import annotations

from django import template

from ..render import i18n

register = template.Library()


@register.simple_tag(takes_context=True)
def t(context, key: str, **kw) -> str:
    return i18n.t(key, context.get("lang") or i18n.DEFAULT_LANG, **kw)


@register.filter
def tr(key: str, lang: str) -> str:
    return i18n.t(key, lang or i18n.DEFAULT_LANG)


@register.filter
def num(value, lang: str) -> str:
    return i18n.fmt_int(value, lang) if hasattr(i18n, "fmt_int") else str(value)


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None
