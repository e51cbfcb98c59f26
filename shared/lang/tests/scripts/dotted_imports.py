# Dotted module names: import os.path, its alias, and from os.path import.
import os.path
import os.path as osp
from os.path import exists, join
print(os.path.join("a", "b"), osp.basename("/x/y"), osp.dirname("/x/y"), join("c", "d"))
print(exists("nothing-here"))
