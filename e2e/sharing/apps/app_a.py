"""App a of e2e/sharing."""

from lib.common import Greeting


def main():
    print(Greeting(who="app_a", host="bücher.example").render())


if __name__ == "__main__":
    main()
