// Command hello is a static Linux binary for the tests of the agent image.
package main

func main() {}
