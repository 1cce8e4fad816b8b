// Package retention owns x-backup's retention: restic's keep policy, as the project's
// x-backup.retention and a service's own declare it. The JSON Schema checks its form
// (composeext/schema); nothing of it depends on the project.
package retention

import "github.com/docker-backup/docker-backup/restic"

// Policy is restic's keep policy; zero fields are unset. Its keys are restic's
// --keep-* flags, as written in x-backup.retention.
type Policy struct {
	KeepLast    int    `json:"keep_last,omitempty" yaml:"keep_last,omitempty" mapstructure:"keep_last"`
	KeepHourly  int    `json:"keep_hourly,omitempty" yaml:"keep_hourly,omitempty" mapstructure:"keep_hourly"`
	KeepDaily   int    `json:"keep_daily,omitempty" yaml:"keep_daily,omitempty" mapstructure:"keep_daily"`
	KeepWeekly  int    `json:"keep_weekly,omitempty" yaml:"keep_weekly,omitempty" mapstructure:"keep_weekly"`
	KeepMonthly int    `json:"keep_monthly,omitempty" yaml:"keep_monthly,omitempty" mapstructure:"keep_monthly"`
	KeepYearly  int    `json:"keep_yearly,omitempty" yaml:"keep_yearly,omitempty" mapstructure:"keep_yearly"`
	KeepWithin  string `json:"keep_within,omitempty" yaml:"keep_within,omitempty" mapstructure:"keep_within"`
}

// Keep converts the policy to restic's; a nil policy keeps everything.
func (p *Policy) Keep() restic.KeepPolicy {
	if p == nil {
		return restic.KeepPolicy{}
	}
	return restic.KeepPolicy{
		Last: p.KeepLast, Hourly: p.KeepHourly, Daily: p.KeepDaily, Weekly: p.KeepWeekly,
		Monthly: p.KeepMonthly, Yearly: p.KeepYearly, Within: p.KeepWithin,
	}
}
