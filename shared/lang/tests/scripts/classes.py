class Animal:
    kind = "animal"
    count = 0

    def __init__(self, name):
        self.name = name
        Animal.count += 1

    def speak(self):
        return f"{self.name} makes a sound"

    def __str__(self):
        return "Animal(" + self.name + ")"

    def __repr__(self):
        return "<%s %r>" % (self.__class__.__name__[:1], self.name)


class Dog(Animal):
    kind = "dog"

    def __init__(self, name, breed):
        super().__init__(name)
        self.breed = breed

    def speak(self):
        return super().speak() + " (woof)"

    @staticmethod
    def legs():
        return 4

    @classmethod
    def create(cls, name):
        return cls(name, "mutt")

    @property
    def title(self):
        return self.name.upper()

    @title.setter
    def title(self, value):
        self.name = value.lower()


d = Dog("rex", "lab")
print(d.speak())
print(d, [d], repr(d), str(d))
print(f"{d} {d!r}")
print("%s and %r" % (d, d))
print(Dog.legs(), d.legs(), Dog.create("fido").breed)
print(d.title)
d.title = "MAX"
print(d.name, Animal.count, d.kind, Animal.kind)
d.age = 3
d.age += 1
print(d.age)


class ProtocolError(Exception):
    pass


class BadLength(ProtocolError):
    def __init__(self, n):
        super().__init__(f"bad length {n}")
        self.n = n


try:
    raise BadLength(5)
except ProtocolError as e:
    print("caught", e, e.args, e.n, repr(e))

try:
    raise ProtocolError("x", 1)
except Exception as e:
    print("caught2", e, e.args)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return self.x == other.x and self.y == other.y

    def __len__(self):
        return 2


print(Point(1, 2) == Point(1, 2), Point(1, 2) != Point(1, 3), len(Point(0, 0)))


class Managed:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        print("enter", self.name)
        return self

    def __exit__(self, exc_type, exc, tb):
        print("exit", self.name, exc_type, exc)
        return exc_type is not None and exc_type is ValueError


with Managed("a") as m:
    print("inside", m.name)
with Managed("b"):
    raise ValueError("boom")
print("after")


def deco(f):
    def wrapper(*args):
        print("calling", f.__name__)
        return f(*args)
    return wrapper


@deco
def add(a, b):
    return a + b


print(add(1, 2))
p = Point(1, 2)
print(p.__class__.__name__)


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return self.n


c = Counter()
c()
print(c(), Counter)


class Base:
    def hello(self):
        return "Base"


class Left(Base):
    def hello(self):
        return "Left>" + super().hello()


class Right(Base):
    def hello(self):
        return "Right>" + super().hello()


class Both(Left, Right):
    def hello(self):
        return "Both>" + super().hello()


print(Both().hello())
print(Point(1, 2) == Point(1, 2))


class Plain:
    pass


print(repr(Plain())[:16], Plain)


class Framing(OSError):
    pass


try:
    raise Framing("short read")
except OSError as e:
    print("os-caught", e, e.args)
try:
    raise ProtocolError
except (ValueError, ProtocolError) as e:
    print("bare class", repr(e), e.args)


class Temperature:
    def __init__(self):
        self._c = 0

    @property
    def celsius(self):
        return self._c


t = Temperature()
try:
    t.celsius = 5
except AttributeError as e:
    print(e)
try:
    t.missing
except AttributeError as e:
    print(e)
try:
    Plain(1)
except TypeError as e:
    print(e)
try:
    Dog("x")
except TypeError as e:
    print(e)


class Loop:
    def __str__(self):
        return str(self)


try:
    print(Loop())
except RecursionError as e:
    print("recursion", e)
print("done")
