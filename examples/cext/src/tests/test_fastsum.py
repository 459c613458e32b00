import platform
import unittest

import fastsum


class FastSumTest(unittest.TestCase):
    def test_sum_squares(self):
        self.assertEqual(fastsum.sum_squares(range(10)), 285)
        self.assertEqual(fastsum.sum_squares([]), 0)

    def test_rejects_non_ints(self):
        with self.assertRaises(TypeError):
            fastsum.sum_squares(["x"])

    def test_built_for_this_interpreter(self):
        expected = "pypy" if platform.python_implementation() == "PyPy" else "cpython"
        self.assertTrue(fastsum.built_for().startswith(expected))


if __name__ == "__main__":
    unittest.main()
