class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


class Hashed(Point):
    def __hash__(self):
        return 7


class Child(Hashed):
    pass


class Off:
    __hash__ = None


class Plain:
    pass


for make in (Point, Hashed, Child):
    p = make(1, 2)
    for how in ("dict", "set", "set()", "key in", "tuple key"):
        try:
            if how == "dict":
                d = {p: 1}
            elif how == "set":
                s = {p}
            elif how == "set()":
                s = set([p])
            elif how == "key in":
                r = p in {}
            else:
                d = {(1, p): 1}
            print(make.__name__, how, "ok")
        except TypeError as e:
            print(make.__name__, how, e)
try:
    {Off(): 1}
except TypeError as e:
    print("Off", e)
q = Plain()
print({q: "plain"}[q], q in {q}, Point(1, 2) == Point(1, 2))
