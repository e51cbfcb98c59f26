import traceback
def show(f):
    try:
        f()
    except Exception:
        print(traceback.format_exc(), end="")

def f1():
    xs = [1, 2]
    y = xs[5] + 1
def f2():
    d = {"a": 1}
    return d["b"]
def f3():
    x = "a" + 1
def f4():
    n = 10 // (5 - 5)
class Obj:
    pass
def f5():
    obj = Obj()
    v = obj.missing
def f6():
    v = int("zz")
def f7():
    return len(5)
def f8():
    assert 1 == 2, "no"
def f9():
    raise ValueError("x")  # c
def f10():
    a = 3
    b = a ** "x" if a else 0
def f11():
    r = [1][0] < "s"
def f12():
    data = {1: None}
    v = data[1][2]
def g(x):
    return x.upper()
def f13():
    return g(5)
def f14():
    z = -"s"
def f15():
    print(1); k = {}["q"]
def f16():
    s = "abc"
    n = s.index("z") + len(s)
def f17():
    items = [1, 2, 3]
    total = sum(items) + items[1:2] * 2
def f18():
    if 1 < 2: raise ValueError("k")
def f19():
    return [1, 2][
        5]
for f in [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19]:
    show(f)
