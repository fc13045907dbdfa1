"""App c of e2e/sharing."""

from lib.common import Greeting


def main():
    print(Greeting(who="app_c", host="bücher.example").render())


if __name__ == "__main__":
    main()
