# Timeouts out of range get CPython's errors before any call is made.
import select
import socket
import threading
import time

s = socket.socket()
for t in (1e308, -1e308, 1e19, 9.3e9, float('inf'), float('nan'), -1):
    try:
        s.settimeout(t)
        print(t, 'ok', s.gettimeout())
    except (OverflowError, ValueError) as e:
        print('settimeout', t, type(e).__name__, e)
for t in (1e30, 9.3e9, float('nan'), -1):
    try:
        select.select([s], [], [], t)
    except (OverflowError, ValueError) as e:
        print('select', t, type(e).__name__, e)
for t in (1e30, float('nan'), -1):
    try:
        time.sleep(t)
    except (OverflowError, ValueError) as e:
        print('sleep', t, type(e).__name__, e)
p = select.poll()
for t in (float('nan'), float('inf'), 3e9):
    try:
        p.poll(t)
    except (OverflowError, ValueError) as e:
        print('poll', t, type(e).__name__, e)
lock = threading.Lock()
for t in (1e30, float('inf')):
    try:
        lock.acquire(timeout=t)
    except OverflowError as e:
        print('acquire', t, type(e).__name__, e)
s.close()
