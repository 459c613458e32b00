import platform
import unittest

import greet


class GreetTest(unittest.TestCase):
    def test_names_the_running_implementation(self):
        text = greet.greeting("nsbuild")
        self.assertTrue(text.startswith("hello, nsbuild, from "))
        self.assertIn(platform.python_implementation(), text)


if __name__ == "__main__":
    unittest.main()
