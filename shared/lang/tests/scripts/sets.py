clients = set()
print(clients, len(clients), bool(clients))
clients.add('a')
clients.add('a')
clients.add(1)
print(len(clients), 'a' in clients, 'b' in clients)
clients.discard('zz')
clients.remove(1)
print(clients)
s = {1, 2, 3}
t = {2, 3, 4}
print(s | t, s & t, s - t, s ^ t)
print(s == {3, 2, 1}, set([1, 1, 2]), set('aa'))
for x in {5, 6}:
    print(x)
try:
    s.remove(9)
except KeyError as e:
    print('KeyError', e)
try:
    {[1]}
except TypeError as e:
    print(e)
print(s.union([7]), s.intersection({1, 2}), s.difference([1]))
s.update([4])
print(s)
print(s.pop() in {1, 2, 3, 4}, len(s))
