import traceback
import sys


class ProtocolError(Exception):
    pass


def parse(data):
    if not data.startswith(b"HELLO"):
        raise ProtocolError("bad greeting: %r" % data)  # a comment
    return data[5:]


def handle(data):
    try:
        return parse(data)
    except ProtocolError as e:
        raise ValueError("cannot handle") from e


def countdown(n):
    if n == 0:
        raise RuntimeError("bottom")
    countdown(n - 1)


try:
    handle(b"HI")
except ValueError:
    print(traceback.format_exc(), end="")
    print(sys.exc_info()[0].__name__, sys.exc_info()[1])
print(sys.exc_info())
print(traceback.format_exc(), end="")

try:
    countdown(6)
except RuntimeError as e:
    err = e
    print("".join(traceback.format_exception(e)), end="")
    print(traceback.format_exception_only(e))
print(err.__traceback__ is not None)

try:
    1 / 0
except ZeroDivisionError:
    try:
        {}["k"]
    except KeyError:
        print("inner handled")
    try:
        raise
    except ZeroDivisionError as again:
        print("re-raised the outer one:", repr(again))
    try:
        int("x")
    except ValueError as v:
        print("context:", repr(v.__context__))

def outer():
    try:
        raise LookupError("a")
    except LookupError:
        helper()

def helper():
    raise TypeError("in helper")

try:
    outer()
except TypeError as t:
    traceback.print_exception(t, file=sys.stdout)
    print(repr(t.__context__))

def gen():
    yield 1
    raise OSError(5, "Input/output error")

for x in gen():
    print(x)
