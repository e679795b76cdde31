<?php
/**
 * Roundcube password driver "ldap_twostep" (installed by roles/webmail of the provision project).
 *
 * Like the packaged ldap_simple driver (bind as the user over StartTLS), but in two writes:
 *  1. userPassword alone: while the directory requires a change (ppolicy pwdReset, set on every first
 *     password), slapd refuses any other modification in the same operation;
 *  2. then, bound again with the new password, the file shares' NT hash (sambaNTPassword and
 *     sambaPwdLastSet), so the unit's Samba accepts the new password after its next sync.
 */
require_once __DIR__ . '/ldap_simple.php';

class rcube_ldap_twostep_password extends rcube_ldap_simple_password
{
    public function save($curpass, $passwd, $username)
    {
        $rcmail = rcmail::get_instance();
        $smbpwattr = $rcmail->config->get('password_ldap_samba_pwattr');
        $smblchattr = $rcmail->config->get('password_ldap_samba_lchattr');

        // 1. the password alone
        $rcmail->config->set('password_ldap_samba_pwattr', null);
        $rcmail->config->set('password_ldap_samba_lchattr', null);
        $ret = parent::save($curpass, $passwd, $username);
        $rcmail->config->set('password_ldap_samba_pwattr', $smbpwattr);
        $rcmail->config->set('password_ldap_samba_lchattr', $smblchattr);
        if ($ret !== PASSWORD_SUCCESS || !$smbpwattr) {
            return $ret;
        }

        // 2. the NT hash, as the user with the new password
        if (!($samba_pass = password::hash_password($passwd, 'samba'))) {
            return PASSWORD_CRYPT_ERROR;
        }
        $ret = $this->connect($passwd);
        if ($ret !== true) {
            return $ret;
        }
        $entry = [$smbpwattr => $samba_pass];
        if ($smblchattr) {
            $entry[$smblchattr] = time();
        }
        $ok = ldap_modify($this->conn, $this->user, $entry);
        if (!$ok) {
            rcube::raise_error(['code' => 600, 'type' => 'php', 'file' => __FILE__, 'line' => __LINE__,
                'message' => "Password changed, but not the file share hash of {$this->user}: " . ldap_error($this->conn)],
                true, false);
        }
        ldap_unbind($this->conn);

        return $ok ? PASSWORD_SUCCESS : PASSWORD_CONNECT_ERROR;
    }
}
