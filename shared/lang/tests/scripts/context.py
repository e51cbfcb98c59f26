class A(Exception): pass
class B(Exception): pass
try:
    raise A("a")
except A as a:
    try:
        raise B("b")
    except B as b:
        try:
            raise a
        except A as again:
            print(repr(again.__context__), repr(b.__context__))
def f():
    raise KeyError("k")
try:
    try:
        f()
    except KeyError as k:
        first = k
        raise ValueError("v")
except ValueError as v:
    print(repr(v.__context__))
try:
    1/0
except ZeroDivisionError:
    try:
        raise first
    except KeyError as k2:
        print(repr(k2.__context__))
