package engine

import "testing"

func TestOwnContainerID(t *testing.T) {
	const id = "3f4e2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
	in := "1271 1250 0:118 / / rw,relatime master:411 - overlay overlay rw\n" +
		"1290 1271 259:1 /srv/docker/containers/" + id + "/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
		"1291 1271 259:1 /srv/docker/containers/" + id + "/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw\n"
	if got := OwnContainerID(in); got != id {
		t.Errorf("OwnContainerID = %q, want %q", got, id)
	}
	host := "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw\n" +
		"30 22 0:25 / /var/lib/docker/containers rw - ext4 /dev/x rw\n"
	if got := OwnContainerID(host); got != "" {
		t.Errorf("OwnContainerID of a host = %q, want empty", got)
	}
}
