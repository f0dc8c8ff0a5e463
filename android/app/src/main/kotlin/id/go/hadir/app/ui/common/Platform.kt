/**
 * What the screens ask of Android beyond Compose: whether a runtime permission is
 * granted, whether a refusal was for good (the platform's rationale flag right after
 * asking), and the system settings pages a remedy opens (the app's own page for its
 * permissions and battery, location, developer options for a mock-location app).
 * Which page a remedy needs is the only choice made here.
 */
package id.go.hadir.app.ui.common

import android.app.Activity
import android.content.ActivityNotFoundException
import android.content.Context
import android.content.ContextWrapper
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.provider.Settings
import androidx.core.app.ActivityCompat
import androidx.core.content.ContextCompat
import id.go.hadir.shell.LocationBlock
import id.go.hadir.shell.PermissionStatus

/** The Activity behind a Compose [Context] (the screens run in MainActivity). */
tailrec fun Context.findActivity(): Activity? = when (this) {
    is Activity -> this
    is ContextWrapper -> baseContext.findActivity()
    else -> null
}

/** True when [permission] is granted. */
fun Context.isGranted(permission: String): Boolean =
    ContextCompat.checkSelfPermission(this, permission) == PackageManager.PERMISSION_GRANTED

/**
 * Where [permission] stands. [asked]: the app asked for it already (in this screen's
 * life); then a refusal without the rationale flag is for good ("jangan tanya lagi"),
 * which only the phone's settings can undo. Not asked yet counts as refused once.
 */
fun Context.permissionStatus(permission: String, asked: Boolean): PermissionStatus {
    if (isGranted(permission)) return PermissionStatus.GRANTED
    val activity = findActivity() ?: return PermissionStatus.DENIED
    val rationale = ActivityCompat.shouldShowRequestPermissionRationale(activity, permission)
    return if (!rationale && asked) PermissionStatus.DENIED_FOREVER else PermissionStatus.DENIED
}

/** Hadir's own page in the phone's settings: permissions, battery, notifications. */
fun Context.openAppDetailsSettings() =
    openSettings(Intent(Settings.ACTION_APPLICATION_DETAILS_SETTINGS, Uri.fromParts("package", packageName, null)))

/** The settings page that lifts [block]: location on/off, developer options, or the app's page. */
fun Context.openSettingsFor(block: LocationBlock) = when (block) {
    LocationBlock.LOCATION_OFF -> openSettings(Intent(Settings.ACTION_LOCATION_SOURCE_SETTINGS))
    LocationBlock.MOCK_LOCATION -> openSettings(Intent(Settings.ACTION_APPLICATION_DEVELOPMENT_SETTINGS))
    else -> openAppDetailsSettings()
}

/** Opens [intent]; a phone without that page gets the main settings instead. */
private fun Context.openSettings(intent: Intent) {
    try {
        startActivity(intent)
    } catch (e: ActivityNotFoundException) {
        startActivity(Intent(Settings.ACTION_SETTINGS))
    }
}
