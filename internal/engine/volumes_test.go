package engine

import "testing"

func TestVolumeInMemory(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Volume
		want string
	}{
		{"plain local", Volume{Driver: "local"}, ""},
		{"tmpfs", Volume{Driver: "local", Options: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=64m"}}, "tmpfs"},
		{"ramfs", Volume{Driver: "local", Options: map[string]string{"type": "ramfs", "device": "ramfs"}}, "ramfs"},
		{"bind", Volume{Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/srv/data"}}, ""},
		{"nfs", Volume{Driver: "local", Options: map[string]string{"type": "nfs", "o": "addr=10.0.0.1,rw", "device": ":/export"}}, ""},
		{"cifs", Volume{Driver: "local", Options: map[string]string{"type": "cifs", "device": "//nas/share"}}, ""},
		{"device", Volume{Driver: "local", Options: map[string]string{"type": "ext4", "device": "/dev/sdb1"}}, ""},
		// A plugin's options mean what the plugin says: nothing tells.
		{"another driver", Volume{Driver: "rexray/ebs", Options: map[string]string{"type": "tmpfs"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.InMemory(); got != tc.want {
				t.Errorf("InMemory() = %q, want %q", got, tc.want)
			}
		})
	}
}
