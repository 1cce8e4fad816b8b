//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// link joins the nodes' network namespaces to a bridge in a namespace of its own (the
// swarm's netns), one veth pair a node: each pair is made inside the bridge's namespace
// with its other end created straight in the node's, so no link ever appears on the
// host. A node gets its address on the swarm's /24 on that end (eth0) and no route out
// of it: the nodes reach one another and nothing else.
func (s *swarm) link() error {
	if err := ipCmd("netns", "add", s.netns); err != nil {
		return err
	}
	br := []string{"-n", s.netns}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "br0", "type", "bridge"},
		{"link", "set", "br0", "up"},
	} {
		if err := ipCmd(append(br, args...)...); err != nil {
			return err
		}
	}
	for _, n := range s.Nodes() {
		node := []string{"-n", n.Netns}
		for _, args := range [][]string{
			append(br, "link", "add", n.link, "type", "veth", "peer", "name", "eth0", "netns", n.Netns),
			append(br, "link", "set", n.link, "master", "br0", "up"),
			append(node, "addr", "add", n.Addr+"/24", "dev", "eth0"),
			append(node, "link", "set", "eth0", "up"),
		} {
			if err := ipCmd(args...); err != nil {
				return fmt.Errorf("linking the swarm's %s: %w", n.Name, err)
			}
		}
	}
	return nil
}

// ipCmd runs `ip args…`.
func ipCmd(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
