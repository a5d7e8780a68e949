/* virtpkgs.h — which KVM and libvirt packages this distribution release
 * calls for (`acso setup`), and what dpkg says is installed. */
#pragma once
#include <stdbool.h>

#include "base/util.h"

/* A value of /etc/os-release text ("ID", "VERSION_ID", ...), unquoted;
 * malloc'ed, or NULL. */
char *osrelease_get(const char *text, const char *key);

/* Package names for the release described by os-release text. Ubuntu before
 * 18.10 (and derivatives on trusty/xenial/bionic): qemu-kvm libvirt-bin
 * bridge-utils; later Ubuntu and derivatives: qemu-kvm libvirt-daemon-system
 * libvirt-clients bridge-utils; Debian: qemu-system-x86 (Debian 12 has no
 * qemu-kvm) libvirt-daemon-system libvirt-clients bridge-utils.
 * Returns 0, or -ACSO_E_UNSUPPORTED for a distribution without apt. */
int virt_packages(const char *osrelease, struct strv *pkgs, char **distro);

/* Is package installed per a /var/lib/dpkg/status text? */
bool dpkg_installed(const char *status, const char *pkg);
