"""A buyer's field the sales channel sent encrypted and the hub could not read.

The hub stores one of these notes in place of the value (never the ciphertext): ops staff see
why the field is empty, rules see a value that is not a phone or a name, and no surface masks
it (it is not personal data). Stored in Chinese, the console's first language; the English
console shows the English text (``in_language``).
"""

from __future__ import annotations

NOT_AUTHORISED = "有赞加密，未授权解密"
NOT_DECRYPTED = "有赞加密，未能解密"
WITHHELD: dict[str, str] = {
    NOT_AUTHORISED: "Encrypted by Youzan: the app is not authorised to decrypt",
    NOT_DECRYPTED: "Encrypted by Youzan: could not be decrypted",
}


def is_withheld(value: object) -> bool:
    return isinstance(value, str) and value in WITHHELD


def in_language(value: str, locale: str) -> str:
    """VALUE as a reader in LOCALE sees it: a withheld note in their language, else as is."""
    if value in WITHHELD and not locale.startswith("zh"):
        return WITHHELD[value]
    return value
