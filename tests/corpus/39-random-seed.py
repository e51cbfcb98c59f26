# Seeded random numbers make a "random" protocol reproducible.
# lane: server
import random
import socket

random.seed(2024)
secret = random.randint(1, 100)
print("secret chosen")

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5390))
srv.listen(1)
conn, _ = srv.accept()
f = conn.makefile("rw")
tries = 0
for line in f:
    guess = int(line)
    tries += 1
    if guess < secret:
        f.write("higher\n")
    elif guess > secret:
        f.write("lower\n")
    else:
        f.write("correct\n")
        f.flush()
        break
    f.flush()
f.close()
conn.close()
srv.close()
print("found after", tries, "tries; secret was", secret)

# lane: client
import random
import socket

random.seed(7)
print("sample:", [random.randint(1, 6) for _ in range(5)], random.choice("abcdef"), round(random.random(), 6))
low, high = 1, 100
s = socket.create_connection(("127.0.0.1", 5390))
f = s.makefile("rw")
while True:
    guess = (low + high) // 2
    f.write("%d\n" % guess)
    f.flush()
    answer = f.readline().strip()
    print(guess, answer)
    if answer == "correct":
        break
    if answer == "higher":
        low = guess + 1
    else:
        high = guess - 1
f.close()
s.close()
