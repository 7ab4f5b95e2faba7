"""What every filter does to an event it matched: add_field, remove_field, add_tag, remove_tag.

elastic/logstash logstash-core lib/logstash/filters/base.rb (filter_matched) and
lib/logstash/util/decorators.rb (add_fields, add_tags); Ruby's Array() as they use it.
"""

from .logstash_config_tree import field_path
from .logstash_events import Event


def ruby_array(value) -> list:
    """Kernel#Array: nil is [], an array itself (a copy here: the model's values are the event's own), any
    other value [value]. A hash would be its [key, value] pairs: not modelled."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        raise NotImplementedError("Array() of a hash (its [key, value] pairs) is not modelled")
    return [value]


def filter_matched(event: Event, add_field: dict, remove_field: list, add_tag: list, remove_tag: list) -> None:
    """base.rb filter_matched: add_field, then remove_field, then add_tag, then remove_tag."""
    for reference, values in add_field.items():
        path = field_path(event.sprintf(reference))
        # decorators.rb add_fields: each value of Array(value) in turn; a field already there (even null)
        # becomes Array(its value) with the new one appended.
        for value in ruby_array(values):
            if not isinstance(value, str):
                raise NotImplementedError(f"add_field value {value!r} is not a string: not modelled")
            value = event.sprintf(value)
            if event.includes(path):
                event.set_field(path, ruby_array(event.get_field(path)) + [value])
            else:
                event.set_field(path, value)
    for reference in remove_field:
        event.remove_field(field_path(event.sprintf(reference)))
    if add_tag:
        # add_tags: `tags << new_tag` with no check ("#unless tags.include?(new_tag)" is commented out), so a
        # tag already there is added again, unlike Event#tag (grok's tag_on_failure), which skips it.
        tags = ruby_array(event.get_field(("tags",)))
        tags.extend(event.sprintf(tag) for tag in add_tag)
        event.set_field(("tags",), tags)
    tags = event.get_field(("tags",))
    if not remove_tag or tags is None or tags is False:
        return  # `return unless tags`: an event without tags gets none
    tags = ruby_array(tags)
    for tag in remove_tag:
        if not tags:
            break
        tag = event.sprintf(tag)
        tags = [kept for kept in tags if kept != tag]  # Array#delete removes every occurrence
    event.set_field(("tags",), tags)
