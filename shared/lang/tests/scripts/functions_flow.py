def f(xs):
    for x in xs:
        try:
            if x == 2:
                return 'ret %d' if False else x * 10
        finally:
            print('finally', x)
    return None
print(f([1, 2, 3]))
def g():
    try:
        return 'try'
    finally:
        print('cleanup')
print(g())
def h(n):
    if n == 0:
        raise ValueError('bottom')
    try:
        return h(n - 1)
    finally:
        print('unwind', n)
try:
    h(3)
except ValueError as e:
    print('caught', e)
def loop():
    i = 0
    while True:
        i += 1
        if i > 3:
            break
    for j in range(5):
        if j == 1:
            continue
        if j == 3:
            return i, j
print(loop())
def gen_adders():
    out = []
    for n in range(3):
        out.append(lambda x, n=n: x + n)
    return out
adders = gen_adders()
print(adders[0](10), adders[2](10))
def late():
    fs = []
    for n in range(3):
        def get():
            return n
        fs.append(get)
    return fs
print(late()[0](), late()[2]())
x = 'global'
def shadow():
    x = 'local'
    def inner():
        return x
    return inner()
print(shadow(), x)
def nested_nonlocal():
    a = 1
    def mid():
        def inner():
            nonlocal a
            a += 1
        inner()
        return a
    return mid()
print(nested_nonlocal())
def defaults(a, b=[]):
    b.append(a)
    return b
defaults(1)
print(defaults(2))
def try_except_in_func():
    try:
        int('x')
    except ValueError:
        raise RuntimeError('converted')
try:
    try_except_in_func()
except RuntimeError as e:
    print('RT', e)
d = {'k': lambda: 'called'}
print(d['k']())
def count_kw(*args, **kwargs):
    return len(args), len(kwargs), list(kwargs)
print(count_kw(1, 2, a=3, b=4))
print((lambda: 1)())
