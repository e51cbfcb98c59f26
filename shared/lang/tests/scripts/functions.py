def add(a, b=10, *rest, scale=1, **kw):
    return (a + b + sum(rest)) * scale

print(add(1))
print(add(1, 2))
print(add(1, 2, 3, 4))
print(add(1, scale=3))
print(add(b=5, a=1))
def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)
print(fact(20))
fs = [fact, add, lambda x: x * 2]
print(fs[2](21), fs[0](5))
def apply(f, *args):
    return f(*args)
print(apply(add, 1, 2))
print(apply(lambda: 'no args'))
def make_counter():
    count = 0
    def inc():
        nonlocal count
        count += 1
        return count
    return inc
c = make_counter()
c()
c()
print(c())
def outer():
    x = 1
    def show():
        return x
    x = 2
    return show
print(outer()())
total = 0
def bump(n):
    global total
    total += n
bump(5)
bump(6)
print(total)
def noret():
    pass
print(noret())
print(__name__)
if __name__ == '__main__':
    print('main')
def kwonly(a, *, key):
    return a, key
print(kwonly(1, key=2))
opts = {'scale': 2}
print(add(1, 1, **opts))
def early(xs):
    for x in xs:
        if x > 2:
            return x
    return -1
print(early([1, 2, 3, 4]), early([]))
def deep(n):
    try:
        return deep(n + 1)
    except RecursionError as e:
        return (n, str(e))
print(deep(0)[1][:32])
def fails():
    raise RuntimeError("socket connection broken")
try:
    fails()
except RuntimeError as e:
    print('caught', e)
def reraiser():
    try:
        {}['k']
    except KeyError:
        print('handling')
        raise
try:
    reraiser()
except KeyError as e:
    print('again', e)
try:
    add()
except TypeError as e:
    print(e)
try:
    add(1, 2, nope=3) if False else kwonly(1)
except TypeError as e:
    print(e)
