"""The types socket programs use from CPython's types module."""


class SimpleNamespace:
    def __init__(self, mapping=None, **kwargs):
        if mapping is not None:
            for key, value in dict(mapping).items():
                setattr(self, key, value)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def __repr__(self):
        items = ", ".join("%s=%r" % (k, v) for k, v in vars(self).items())
        return "namespace(%s)" % items

    def __eq__(self, other):
        if not isinstance(other, SimpleNamespace):
            return False
        return vars(self) == vars(other)
