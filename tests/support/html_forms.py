"""What a browser would send from a form of a page: its fields' current values, the CSRF token among them."""

from html.parser import HTMLParser


class _FormFields(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields: dict[str, list[str]] = {}
        self.select: tuple[str, bool] | None = None  # (name, multiple) of the open <select>
        self.textarea: str | None = None

    def add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id", "") == self.form_id
            assert not (self.inside and self.found), f"the page has two forms with id {self.form_id!r}"
            self.found = self.found or self.inside
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name and "disabled" not in attributes:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.add(name, attributes.get("value", "on"))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self.add(name, attributes.get("value", ""))
        elif tag == "select" and name:
            self.select = (name, "multiple" in attributes)
            self.fields.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in attributes:
            self.add(self.select[0], attributes.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.add(name, "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.fields[self.textarea][-1] += data


def form_fields(html: str, form_id: str) -> dict[str, str | list[str]]:
    """The fields of the form whose id is ``form_id`` ("": the page's one form without an id): one value, or a list for a name given several (a multiple
    select, checkboxes); a select with nothing chosen sends nothing."""
    parser = _FormFields(form_id)
    parser.feed(html)
    assert parser.found, f"the page has no form with id {form_id!r}"
    return {name: values[0] if len(values) == 1 else values for name, values in parser.fields.items() if values}
