# x[a:b], x[a:b:c] of an instance pass a slice to __getitem__ (and
# __setitem__, __delitem__); slice objects and slice.indices.
class Seq:
    def __init__(self, items):
        self.items = list(items)

    def __getitem__(self, key):
        print("get", key)
        if isinstance(key, slice):
            print(" ", key.start, key.stop, key.step, key.indices(len(self.items)))
            return Seq(self.items[key])
        return self.items[key]

    def __setitem__(self, key, value):
        print("set", key, value)
        self.items[key] = value

    def __delitem__(self, key):
        print("del", key)
        del self.items[key]

    def __len__(self):
        return len(self.items)

    def __repr__(self):
        return "Seq(%r)" % (self.items,)


s = Seq(range(10))
print(s[2:5])
print(s[::2])
print(s[:-3])
print(s[1:8:3])
print(s[::-1])
print(s[3], s[-1])
lo, hi = 4, 6
print(s[lo:hi], s[lo:], s[:hi])
s[1:3] = ["a", "b", "c"]
print(s)
s[0] = "first"
del s[0:2]
print(s)
del s[::3]
print(s)
del s[5]
print(s)


class ReadOnly:
    def __getitem__(self, key):
        return key


r = ReadOnly()
print(r[1:2], r[::], r[:"x"], r["a":"b":"c"])
for bad in ("r[1:2] = 5", "del r[1:2]"):
    try:
        if bad.startswith("del"):
            del r[1:2]
        else:
            r[1:2] = 5
    except TypeError as e:
        print("TypeError:", e)

sl = slice(1, 5, 2)
print(sl, sl.start, sl.stop, sl.step, slice(3), slice(1, 2), repr(slice(None, None, -1)))
print([0, 1, 2, 3, 4, 5, 6][sl], "abcdef"[slice(None, None, -1)], (1, 2, 3)[slice(1, None)], b"xyz"[slice(2)])
for args in ((None, 10), (-3, None), (None, None, -1), (10, -10, -2), (2, 2), (-100, 100, 3)):
    print(args, slice(*args).indices(5), slice(*args).indices(0))
print(slice(1, 2) == slice(1, 2), slice(1, 2) == slice(1, 3), slice(1, 2) != slice(1, 2, None))
items = list(range(8))
items[slice(2, 4)] = ["x"]
print(items)
del items[slice(0, 2)]
print(items)
del items[1:3]
print(items)
ba = bytearray(b"abcdef")
del ba[1:3]
print(ba)
print(isinstance(sl, slice), callable(slice))
for bad in (lambda: slice(1, 2, 0).indices(3), lambda: slice(1, 2).indices(-1), lambda: slice("a", 2).indices(3)):
    try:
        bad()
    except (ValueError, TypeError) as e:
        print(type(e).__name__, e)
for bad in (lambda: slice(), lambda: slice(1, 2, 3, 4), lambda: hash(slice(1, 2)), lambda: {}[1:2]):
    try:
        bad()
    except TypeError as e:
        print("TypeError:", e)
d = {1: 2}
try:
    del d[1:2]
except TypeError as e:
    print("TypeError:", e)
print("abcdef"[1::2**63-1], "abcdef"[-1::-2**63], [1,2,3][::2**70], (1,2)[5::-2**64])
print(slice(1, None, 2**63).indices(5), slice(None, None, -2**63).indices(3))
