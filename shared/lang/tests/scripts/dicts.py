d = {'a': 1, 'b': 2}
d['c'] = 3
d['a'] = 10
print(d)
print(len(d), 'a' in d, 'z' in d, 'z' not in d)
del d['b']
print(d)
for k in d:
    print(k, d[k])
for k, v in d.items():
    print(k, '=', v)
print(list(d.keys()), list(d.values()))
print(d.get('a'), d.get('zz'), d.get('zz', 5))
print(d.pop('a'), d)
print(d.pop('nope', 'dflt'))
print(d.setdefault('n', []), d)
d.setdefault('n', []).append(1)
print(d)
d.update({'x': 1}, y=2)
d.update([('z', 3)])
print(d)
e = dict(a=1, b=(1, 2))
print(e, dict(), dict([(1, 'one'), (2.5, None)]))
keys = {1: 'int', (1, 2): 'tuple', None: 'none', b'k': 'bytes', True: 'bool?'}
print(keys)
print(keys[1.0], keys[(1, 2)])
print({} == {}, {'a': 1, 'b': 2} == {'b': 2, 'a': 1}, bool({}))
nested = {'list': [1, 2], 'd': {'x': 'y'}}
print(nested, repr(nested))
print(str({'q': "it's"}))
try:
    d['missing']
except KeyError as err:
    print('KeyError', err)
try:
    d[[1]] = 2
except TypeError as err:
    print(err)
try:
    {}.pop(7)
except KeyError as err:
    print('pop', err)
def kw(**kwargs):
    return kwargs
print(kw(a=1, b=2))
print(kw(**{'c': 3}))
